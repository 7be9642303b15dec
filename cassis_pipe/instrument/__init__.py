"""instrument stage of cassis-pipe: detector windows, optics, frames and SPICE text kernels.
Conventions: docs/icd.md section 9."""
