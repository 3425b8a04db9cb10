import typednet as tn


class Unsized(tn.Dim): ...  # E: [call-arg] Missing named argument "size" for "__init_subclass__" of "Dim"  # P: [reportCallIssue] Argument missing for parameter "size"


class Hidden(tn.Dim, size="3"): ...  # E: [arg-type] Argument "size" to "__init_subclass__" of "Dim" has incompatible type "str"; expected "int"  # P: [reportArgumentType] Argument of type "Literal['3']" cannot be assigned to parameter "size" of type "int" in function "__init_subclass__"
