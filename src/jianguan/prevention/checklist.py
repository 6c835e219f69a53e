"""What an exit pass must have before a person may leave the detention area, per kind of
movement (pure Python). Basis: practice — 看守所条例 第二十条 and 公安机关办理刑事案件程序规定 set
the documents for 提解、释放、交付执行; the leader's approval, named escorts and, for care outside
the facility, a worn ankle monitor inside a fence are the facilities' own safeguards."""

from __future__ import annotations

from dataclasses import dataclass

DOCUMENT = "DOCUMENT"
APPROVAL = "APPROVAL"
ESCORT = "ESCORT"
DESTINATION = "DESTINATION"
GEOFENCE = "GEOFENCE"
ANKLE = "ANKLE"

ITEM_LABELS = {
    DOCUMENT: "法律文书编号已登记",
    APPROVAL: "所领导已批准",
    ESCORT: "押解民警已指定",
    DESTINATION: "去向（医院）已登记",
    GEOFENCE: "已指定医院电子围栏",
    ANKLE: "已佩戴电子脚环",
}

# The movements that leave the detention area (custody MovementKind) and what each needs.
CHECKLIST: dict[str, tuple[str, ...]] = {
    "OUT_INTERROGATION": (DOCUMENT, APPROVAL, ESCORT),
    "OUT_MEDICAL": (APPROVAL, ESCORT, DESTINATION, GEOFENCE, ANKLE),
    "RELEASE": (DOCUMENT, APPROVAL),
    "TRANSFER": (DOCUMENT, APPROVAL, ESCORT),
    "DELIVER": (DOCUMENT, APPROVAL, ESCORT),
}

KIND_LABELS = {
    "OUT_INTERROGATION": "提解出所",
    "OUT_MEDICAL": "出所就医",
    "RELEASE": "释放",
    "TRANSFER": "转所",
    "DELIVER": "交付执行",
}


@dataclass(frozen=True)
class Item:
    code: str
    label: str
    done: bool


def checklist(kind: str, done: set[str]) -> list[Item]:
    """The items of a kind of pass, each marked done or not."""
    return [Item(code, ITEM_LABELS[code], code in done) for code in CHECKLIST.get(kind, ())]


def missing(kind: str, done: set[str]) -> list[str]:
    return [item.label for item in checklist(kind, done) if not item.done]
