"""cassis-pipe: ground processing for CaSSIS, the colour and stereo camera on ExoMars TGO."""

__version__ = "0.1.0"
