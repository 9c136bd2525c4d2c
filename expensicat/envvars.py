"""Environment variables as typed settings: how config.py declares, parses, refuses and
documents each one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, NamedTuple

from pydantic import AfterValidator, BeforeValidator, Field, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

PREFIX = "EXPENSICAT_"


def refused(message: str, raw: object = None) -> PydanticCustomError:
    """A refusal in our words; `explain` puts the variable's name in front of it."""
    return PydanticCustomError("refused", message, {"raw": repr(raw)})


def check(test: Callable[[Any], bool], message: str) -> AfterValidator:
    """Refuse a parsed value that fails `test`, saying `message`."""

    def validate(value: Any) -> Any:
        if not test(value):
            raise refused(message)
        return value

    return AfterValidator(validate)


def _whole_number(raw: object) -> object:
    # Python's int(), as ever: pydantic's own parsing would take "5.0" for 5.
    try:
        return int(raw) if isinstance(raw, str) else raw
    except ValueError:
        raise refused("must be a whole number, got {raw}", raw) from None


def _zero_or_positive(raw: object) -> object:
    # Zero turns a feature off, so only a plain "0" means it; anything else is a Positive.
    if isinstance(raw, str) and raw.isdigit() and int(raw) == 0:
        return 0
    value = _whole_number(raw)
    if isinstance(value, int) and value <= 0:
        raise refused("must be greater than zero, or 0 to turn it off")
    return value


def _flag(raw: object) -> object:
    # Only these words: pydantic's own parsing would also take "t", "y", "f" and "n".
    if not isinstance(raw, str):
        return raw
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise refused("must be true or false, got {raw}", raw)


Positive = Annotated[
    int, BeforeValidator(_whole_number), check(lambda n: n > 0, "must be greater than zero")
]
ZeroOrPositive = Annotated[int, BeforeValidator(_zero_or_positive)]
Flag = Annotated[bool, BeforeValidator(_flag)]


def setting(name: str, default: Any, meaning: str, *, shown: str | None = None) -> Any:
    """Declare `EXPENSICAT_<name>`; `shown` is the default as the docs put it, when computed."""
    return Field(
        default,
        validation_alias=PREFIX + name,
        description=meaning,
        json_schema_extra=None if shown is None else {"shown": shown},
    )


class Section(BaseSettings):
    """A frozen group of settings, validated from a mapping of variable names to values."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore", case_sensitive=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Settings.from_env hands over the one mapping it reads (the environment or a test's
        # dict): no .env file, secrets folder or second look at os.environ behind its back.
        return (init_settings,)

    @classmethod
    def sections(cls) -> dict[str, type[Section]]:
        """The sections nested in this one, by field name, in the order they are declared."""
        return {
            name: field.annotation
            for name, field in cls.model_fields.items()
            if isinstance(field.annotation, type) and issubclass(field.annotation, Section)
        }


# Pydantic's own checks, in the words the service has always used.
_WORDING = {
    "string_too_short": "must be at least {min_length} characters long",
    "less_than_equal": "must be at most {le}",
}


def explain(error: ValidationError) -> str:
    """The first problem, in one line naming its variable; no pydantic wording leaks out."""
    first = error.errors()[0]
    name = str(first["loc"][-1]) if first["loc"] else ""
    if first["type"] == "refused":
        message = first["msg"]
    else:
        message = _WORDING.get(first["type"], "is not valid").format(**first.get("ctx", {}))
    return f"{name} {message}" if name.startswith(PREFIX) else message


class Variable(NamedTuple):
    """One environment variable as the docs present it: default and meaning in markdown."""

    name: str
    default: str
    meaning: str


def variables(section: type[Section]) -> list[Variable]:
    """Every variable `section` reads, nested sections included, in the order declared."""
    nested = section.sections()
    found: list[Variable] = []
    for name, field in section.model_fields.items():
        if name in nested:
            found += variables(nested[name])
        else:
            found.append(
                Variable(str(field.validation_alias), _shown(field), field.description or "")
            )
    return found


def _shown(field: FieldInfo) -> str:
    extra = field.json_schema_extra
    if isinstance(extra, dict) and "shown" in extra:
        return str(extra["shown"])
    if field.default is None:
        return "unset"
    if isinstance(field.default, bool):
        return f"`{str(field.default).lower()}`"
    return f"`{field.default}`"


def markdown_table(section: type[Section]) -> str:
    """The variables of `section` as a markdown table: variable, default, meaning."""
    rows = [f"| `{v.name}` | {v.default} | {v.meaning} |" for v in variables(section)]
    return "\n".join(["| variable | default | meaning |", "| --- | --- | --- |", *rows, ""])
