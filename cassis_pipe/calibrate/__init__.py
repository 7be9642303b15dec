"""calibrate stage of cassis-pipe."""
