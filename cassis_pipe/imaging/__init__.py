"""Image-space numeric kernels shared by the stages (see :mod:`.resample`): Keys cubic and
bilinear interpolation, translations, node-grid up-sampling."""
