"""mapping stage of cassis-pipe: map projections, map grids, inverse-mapping resampler,
mosaics (see docs/mapping.md).

- :mod:`.projections`: ``Projection``, ``choose_projection``, ``equirectangular``,
  ``polar_stereographic`` (PSA/HiRISE local-radius sphere conventions, numba kernels);
- :mod:`.grid`: ``MapGrid``, ``grid_for_footprints``;
- :mod:`.project`: ``resample_framelet``, ``map_to_image``, ``footprint_outline`` (the
  interpolation kernels are :mod:`cassis_pipe.imaging.resample`'s, the camera kernels
  :mod:`cassis_pipe.geometry.projection`'s);
- :mod:`.mosaic_kernel`: the one-pass "nearest centre" mosaic;
- :mod:`.mosaic`: ``Framelet``, ``mosaic``, ``common_grid``, ``mosaic_bands``.
"""
