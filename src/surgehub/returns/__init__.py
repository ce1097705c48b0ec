"""Reading and validating locality returns against the common specification."""
