import typednet as tn


class Unsized(tn.Dim): ...  # E: [call-arg] Missing named argument "size" for "__init_subclass__" of "Dim"


class Hidden(tn.Dim, size="3"): ...  # E: [arg-type] Argument "size" to "__init_subclass__" of "Dim" has incompatible type "str"; expected "int"
