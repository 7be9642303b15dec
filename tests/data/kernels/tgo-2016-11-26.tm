KPL/MK

Kernels of CaSSIS exposure CAS-MCO-2016-11-26T22.50.27.381 (observation CRUS_049218_201_0,
the sheet's real row): mission-wide text kernels (LSK, SCLK, PCK, FK, IK, ISIS IAK) and the
sliced TGO SPK and CKs of the 2016-11-26 MCO sequence (NAIF transfer format, converted to
binary by cassis-pipe's kernel cache). Names are relative to this file's directory
(cassis_pipe.geometry.kernels.kernelset). Origin of every file: tests/data/README.md.

\begindata

KERNELS_TO_LOAD = (
  'naif0012.tls'
  'em16_tgo_step_20190823.tsc'
  'pck00010.tpc'
  'em16_tgo_v18.tf'
  'em16_tgo_cassis_v07.ti'
  'tgoCassisAddendum007.ti'
  'tgo-2016-11-26/CAS-MCO-2016-11-26T22.50.27.381_0.xsp'
  'tgo-2016-11-26/CAS-MCO-2016-11-26T22.50.27.381_1.xsp'
  'tgo-2016-11-26/em16_tgo_sc_spm_20161101_20170301_s20191109_v01_0_sliced_-143000.xc'
  'tgo-2016-11-26/em16_tgo_sc_spm_20161101_20170301_s20191109_v01_1_sliced_-143000.xc'
  'tgo-2016-11-26/em16_tgo_cassis_tel_20160407_20221231_s20220402_v01_0_sliced_-143410.xc'
  'tgo-2016-11-26/em16_tgo_cassis_tel_20160407_20221231_s20220402_v01_1_sliced_-143410.xc'
)

\begintext
