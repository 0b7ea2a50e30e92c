"""The grid search stage: which cells share a training job, the job itself, the grid's table
and the choice of the best cell."""
