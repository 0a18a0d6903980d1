"""How a product is measured, declared once: counts, orders and reference loads read it here."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class UnitOfMeasure(models.TextChoices):
    """How a product is counted: whole pieces, or a measured amount (decimals allowed)."""

    PIECE = "piece", _("Piece (whole numbers)")
    WEIGHT = "weight", _("Weight")
    LENGTH = "length", _("Length")


# Unit names (as the order system and sheets write them) that are measured, not counted.
MEASURED_UNITS = {
    UnitOfMeasure.WEIGHT: {"kg", "g", "t", "lb", "oz", "公斤", "千克", "克", "斤", "吨"},
    UnitOfMeasure.LENGTH: {"m", "cm", "mm", "km", "ft", "米", "厘米", "毫米", "公里"},
}


def measure_of_unit(unit: str) -> str:
    """The unit of measure a unit name implies: piece unless it names a weight or a length."""
    name = (unit or "").strip().lower()
    for measure, names in MEASURED_UNITS.items():
        if name in names:
            return measure
    return UnitOfMeasure.PIECE
