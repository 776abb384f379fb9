"""Action recognition from pose sequences (an LSTM or temporal convolution over per-frame poses) and the multitask
pose + action network of Luvizon et al. (CVPR 2018) built from the stages' parts. See action/README.md."""
