"""The minimal example task of the developer guide: damped oscillators, a regression network."""
