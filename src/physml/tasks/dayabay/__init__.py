"""dayabay: reactor-antineutrino detector events as 8 x 24 PMT charge images."""
