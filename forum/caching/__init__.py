"""The page cache: one contract, personal slots, keys from validated parameters, invalidation."""
