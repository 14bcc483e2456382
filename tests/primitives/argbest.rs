//! argmin and argmax: the first index of the extreme value, NaN first.
