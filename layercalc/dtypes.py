"""torch's dtype names, their aliases and sizes: one table for the spec loader, the rules,
the engine and the command line."""

DTYPES = ("float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool")
DTYPE_ALIASES = {"float": "float32", "half": "float16", "double": "float64", "int": "int64", "long": "int64",
                 "short": "int16"}
FLOAT_DTYPES = ("float16", "bfloat16", "float32", "float64")
DTYPE_BYTES = {"float16": 2, "bfloat16": 2, "float32": 4, "float64": 8, "int8": 1, "int16": 2, "int32": 4,
               "int64": 8, "uint8": 1, "bool": 1}
