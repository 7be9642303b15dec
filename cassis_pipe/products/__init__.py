"""CaSSIS product writers: DAT arrays, PDS4 labels (+ offline validation), GeoTIFF, PNG/JPG.

Modules: ``dat`` (raw arrays), ``metadata`` (records), ``crs`` (Mars projections, IAU 2015),
``pds4`` (labels), ``validate`` (label checks, product counts), ``geotiff``, ``images``.
Nothing is imported here so that ``import cassis_pipe.products.dat_writer`` stays light.
"""
