"""galaxy-vae: does a VAE describe galaxy images better than an elliptical Gaussian?"""
