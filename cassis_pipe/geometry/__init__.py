"""geometry stage of cassis-pipe: ISDs, time interpolation, Mars ellipsoid / DEM and the CaSSIS
frame camera (``camera.FrameCamera``: image <-> body-fixed ground, rotation offset, angles).
Conventions: docs/icd.md section 9."""
