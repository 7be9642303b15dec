"""level0 stage of cassis-pipe."""
