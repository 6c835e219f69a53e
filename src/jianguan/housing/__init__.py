"""Housing: cells (监室) with capacity and type. Separation rules come with the custody core."""
