"""The autoencoder kind's stage (NUS CS5242 assignment 2, questions 2 and 3): the networks, one
training run per architecture and latent size, and what is computed from a trained one (the
training images' codes, their mean decoded, reconstructions of test images)."""
