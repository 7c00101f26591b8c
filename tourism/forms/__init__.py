"""WTForms forms, one module per area; views parse input with them."""
