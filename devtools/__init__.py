"""Tools for laptops and tests only; never shipped in the Lambda asset."""
