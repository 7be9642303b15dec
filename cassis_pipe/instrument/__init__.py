"""instrument stage of cassis-pipe."""
