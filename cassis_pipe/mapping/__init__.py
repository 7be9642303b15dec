"""mapping stage of cassis-pipe: map projections, map grids, inverse-mapping resampler,
mosaics (see docs/mapping.md).

- :mod:`.projections`: ``Projection``, ``choose_projection``, ``equirectangular``,
  ``polar_stereographic`` (PSA/HiRISE local-radius sphere conventions, numba kernels);
- :mod:`.grid`: ``MapGrid``, ``grid_for_footprints``;
- :mod:`.resample`: ``resample_framelet``, ``map_to_image``, ``footprint_outline``;
- :mod:`.interpolation`: ``interpolate`` (bilinear / bicubic with nodata rules);
- :mod:`.mosaic`: ``Framelet``, ``mosaic``, ``common_grid``, ``mosaic_bands``.
"""
