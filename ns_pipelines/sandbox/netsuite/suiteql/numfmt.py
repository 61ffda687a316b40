"""TO_CHAR(number, model) for the usual Oracle number format models."""
from __future__ import annotations


def format_number(value: float | int, fmt: str | None) -> str:
    """TO_CHAR(number[, model]) for the usual models: 9, 0, '.', 'D', ',', 'G', FM, leading '$'."""
    if fmt is None:
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    model = fmt.upper()
    fill = True
    if model.startswith("FM"):
        fill, model = False, model[2:]
    prefix = ""
    if model.startswith("$"):
        prefix, model = "$", model[1:]
    model = model.replace("D", ".").replace("G", ",")
    int_part, _, frac_part = model.partition(".")
    decimals = len(frac_part)
    digits_allowed = sum(1 for c in int_part if c in "90")
    text = f"{abs(value):.{decimals}f}"
    whole, _, frac = text.partition(".")
    if len(whole) > max(digits_allowed, 1) and not (whole == "0"):
        return "#" * (len(model) + 1 + len(prefix))
    zero_from = int_part.find("0")
    if zero_from >= 0:
        min_digits = sum(1 for c in int_part[zero_from:] if c in "90")
        whole = whole.rjust(min_digits, "0")
    elif whole == "0" and decimals:
        whole = ""  # Oracle prints .5 for TO_CHAR(0.5, '9.9')
    if "," in int_part and whole:
        whole = f"{int(whole):,}"
    body = prefix + whole + ("." + frac if decimals else "")
    sign = "-" if value < 0 else ""
    result = sign + body
    if fill:
        width = len(model) + len(prefix) + 1  # one position for the sign
        result = result.rjust(width)
    return result
