"""RL-V2V-GAN: unsupervised few-shot video-to-video translation with ConvLSTM
GANs trained by policy gradient (DDPG). See README.md for the module map."""

__version__ = "0.1.0"
