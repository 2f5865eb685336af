"""Training, augmentation and evaluation of vidkp's keypoint networks (not part of the installed package)."""
