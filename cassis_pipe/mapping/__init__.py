"""mapping stage of cassis-pipe."""
