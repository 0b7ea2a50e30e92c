"""A reasoned verdict on each of the handout's seven augmentations, for the dataset at hand.

Whether a transformation is a reasonable augmentation depends on the data, not on the
transformation: it is reasonable when it keeps every image's label and produces images like
those the model will meet (the test set), and it is useful when it varies something that
really varies between images of one class. The verdicts below follow from a few properties
of each dataset, stated once in ``TRAITS``; the prose names the property that decides.
"""

from __future__ import annotations

from dataclasses import dataclass

from gridscape.data.augment import AUGMENTATION_NAMES, DESCRIPTIONS, Augmentation

# The handout's order (question 7), with the package's names.
HANDOUT_ORDER = ("hflip", "rotate10", "vflip", "shift5", "contrast", "noise", "rotate90")
assert set(HANDOUT_ORDER) <= set(AUGMENTATION_NAMES)  # crop4 (the MLP course's) is not among them

YES, CARE, NO = "yes", "with care", "no"


@dataclass(frozen=True)
class Traits:
    """What decides the verdicts for one kind of image."""

    kind: str                 # "natural photographs", ...
    plural: str               # what one image shows, in the plural ("objects", "digits")
    mirror_keeps_class: bool  # a left-right mirror image is still an image of the same class
    mirror_note: str          # why (or why not), with examples from the classes
    upright: str              # why the images have a canonical "up"
    upside_down_note: str     # what an up-down flip does to these images
    rotation_note: str        # what large rotations do
    small_tilt_note: str      # why small rotations occur naturally
    border_pixels: int        # typical empty border around the object, in pixels of the prepared image
    framing_note: str         # how the object sits in the frame
    lighting_note: str        # how brightness and contrast vary between images
    noise_note: str           # how the images' own noise looks
    noise_realistic: bool     # the images themselves carry noise of about this size


TRAITS: dict[str, Traits] = {
    "photos": Traits(
        kind="natural photographs",
        plural="objects",
        mirror_keeps_class=True,
        mirror_note=(
            "the world has no preferred left or right: a car or a horse facing the other way is "
            "still a car or a horse, and such images are as likely in the test set as the originals"
        ),
        upright="photographs are taken with gravity pointing down",
        upside_down_note=(
            "an upside-down ship, cat or truck does not occur in the test set; the model would "
            "spend capacity on views it is never asked about and lose the cue of where the sky is"
        ),
        rotation_note=(
            "rotations of up to 90 degrees make sideways animals and vehicles that the test set "
            "never shows, and the corners the rotation leaves empty are filled with black"
        ),
        small_tilt_note="photographs are often taken with the camera slightly tilted",
        border_pixels=4,
        framing_note=(
            "the object is roughly but not exactly centred and usually reaches the border, so a "
            "shift of a few pixels mimics a slightly different framing; the standard CIFAR "
            "recipe (pad by 4, crop at random) does the same"
        ),
        lighting_note=(
            "exposure, weather and camera differ from photo to photo, so contrast varies within "
            "every class and is no cue to it"
        ),
        noise_note=(
            "the images are small and fairly clean, but sensor noise of this size is realistic "
            "for photographs; it keeps the label and discourages reliance on single pixels, "
            "although it is weaker as a regulariser than the geometric transforms"
        ),
        noise_realistic=True,
    ),
    "digits": Traits(
        kind="handwritten digits",
        plural="digits",
        mirror_keeps_class=False,
        mirror_note=(
            "handwriting has a direction: a mirrored 2, 3, 4, 5, 7 or 9 is no digit at all, and "
            "the model would be taught that such shapes carry the original label, which blurs "
            "the boundaries between classes"
        ),
        upright="digits are written upright on a line",
        upside_down_note=(
            "an up-down flip turns a 6 into something close to a mirrored 9 and a 7 into a shape "
            "that is no digit, so it changes or destroys the class instead of keeping it"
        ),
        rotation_note=(
            "rotations of up to 90 degrees make a 6 look like a 9 on its way round and a 1 like a "
            "dash, so they confuse exactly the classes the model must separate"
        ),
        small_tilt_note="people slant their handwriting by about this much, in both directions",
        border_pixels=2,
        framing_note=(
            "the digits were centred and scaled to fill most of the frame, so a shift by the full "
            "5 pixels can push a stroke over the border; smaller shifts mimic the variation in "
            "where a digit is written"
        ),
        lighting_note=(
            "ink density and pen pressure vary between writers, so contrast changes of this size "
            "keep every digit recognisable and teach the model to ignore stroke intensity"
        ),
        noise_note=(
            "the digits lie on a clean black background with no noise of this kind, so it keeps "
            "the label but trains on speckles the test set never has; mild noise does little harm "
            "but also models no real variation"
        ),
        noise_realistic=False,
    ),
    "clothing": Traits(
        kind="photographs of clothing",
        plural="items",
        mirror_keeps_class=True,
        mirror_note=(
            "garments are left-right symmetric, and a mirrored shoe or bag is still a shoe or a "
            "bag (in Fashion-MNIST all shoes point the same way, so flipped ones are new but "
            "plausible views)"
        ),
        upright="the items are photographed upright, in a fixed product pose",
        upside_down_note=(
            "an upside-down shirt, dress or ankle boot never occurs in the test set, and "
            "upside-down trousers look like a different garment"
        ),
        rotation_note=(
            "rotations of up to 90 degrees turn trousers into something close to a sideways bag "
            "and produce poses the product photos never have"
        ),
        small_tilt_note="small tilts occur when an item was not laid out perfectly straight",
        border_pixels=1,
        framing_note=(
            "each item fills almost the whole frame, so a shift by up to 5 pixels cuts off "
            "sleeves, soles or hems; shifts of one or two pixels would be safer"
        ),
        lighting_note=(
            "the colour and the material of a garment change its brightness and contrast, which "
            "therefore carry little class information"
        ),
        noise_note=(
            "the product photos are clean on a uniform background, so noise keeps the label but "
            "models no real variation; only a small amount is harmless"
        ),
        noise_realistic=False,
    ),
}

DATASET_TRAITS = {
    "cifar10": "photos",
    "cifar100": "photos",
    "mnist": "digits",
    "digits": "digits",
    "fashion_mnist": "clothing",
}


@dataclass(frozen=True)
class Verdict:
    name: str
    description: str
    verdict: str  # yes / with care / no
    reason: str

    @property
    def reasonable(self) -> bool:
        return self.verdict != NO


def traits_for(dataset: str) -> Traits:
    try:
        return TRAITS[DATASET_TRAITS[dataset]]
    except KeyError:
        raise KeyError(f"no augmentation traits for dataset {dataset!r}; known: {sorted(DATASET_TRAITS)}") from None


def _shift_pixels(name: str = "shift5") -> int:
    """The largest shift of ``shift5`` or ``crop4``, read from its name."""
    return int("".join(c for c in name if c.isdigit()))


def verdict_of(dataset: str, name: str, padding: int = 4) -> Verdict:
    """The verdict on any augmentation the package has: the handout's seven, the random crop
    of the MLP course (``crop4``: a shift by up to 4 pixels with zero fill, on every image),
    the LeNet-5 lab's crop padded by ``padding`` pixels (``crop``) and the DS405B handout's
    resized crop (``resized_crop``: half the area or more, zoomed back)."""
    for verdict in verdicts(dataset):
        if verdict.name == name:
            return verdict
    if name in ("crop4", "crop"):
        t = traits_for(dataset)
        shift = _shift_pixels("crop4") if name == "crop4" else padding
        fits = shift <= t.border_pixels + 1
        return Verdict(name, Augmentation(name, padding=shift).describe(), YES if fits else CARE, sentence(t.framing_note))
    if name == "resized_crop":
        # a crop of half the area cuts up to 39 % off one side (ratio 4/3: 0.61 of the height)
        t = traits_for(dataset)
        if t.mirror_keeps_class and t.border_pixels >= 4:  # photographs: objects framed loosely
            verdict, reason = YES, (
                "a crop of half the image's area, zoomed back, mimics a closer or differently framed shot; "
                "it can cut off up to four tenths of one side, which photographs of objects tolerate "
                "(the usual ImageNet recipe crops far more)")
        else:
            verdict, reason = CARE, (
                f"the {t.plural} fill most of the frame, so a crop of half the image's area, zoomed back, "
                "can cut off up to four tenths of one side; a larger smallest area would be safer")
        return Verdict(name, DESCRIPTIONS[name], verdict, sentence(reason))
    raise KeyError(f"no verdict on augmentation {name!r}; expected one of {', '.join(AUGMENTATION_NAMES)}")


def sentence(text: str) -> str:
    """``text`` with a capital first letter and a full stop."""
    return text[:1].upper() + text[1:] + "."


def verdicts(dataset: str) -> list[Verdict]:
    """The seven verdicts for ``dataset``, in the handout's order."""
    t = traits_for(dataset)
    out: dict[str, Verdict] = {}

    if t.mirror_keeps_class:
        out["hflip"] = Verdict("hflip", DESCRIPTIONS["hflip"], YES, sentence(t.mirror_note))
    else:
        out["hflip"] = Verdict("hflip", DESCRIPTIONS["hflip"], NO, sentence(t.mirror_note))

    out["rotate10"] = Verdict(
        "rotate10",
        DESCRIPTIONS["rotate10"],
        YES,
        sentence(f"{t.small_tilt_note}, and a tilt this small keeps the class; only the corners "
                 f"that the rotation leaves empty are new"),
    )
    out["vflip"] = Verdict(
        "vflip", DESCRIPTIONS["vflip"], NO, sentence(f"{t.upright}, and {t.upside_down_note}")
    )
    shift = _shift_pixels()
    shift_verdict = YES if shift <= t.border_pixels + 1 else CARE
    out["shift5"] = Verdict("shift5", DESCRIPTIONS["shift5"], shift_verdict, sentence(t.framing_note))
    out["contrast"] = Verdict("contrast", DESCRIPTIONS["contrast"], YES, sentence(t.lighting_note))
    noise_verdict = YES if t.noise_realistic else CARE
    out["noise"] = Verdict("noise", DESCRIPTIONS["noise"], noise_verdict, sentence(t.noise_note))
    out["rotate90"] = Verdict(
        "rotate90", DESCRIPTIONS["rotate90"], NO, sentence(f"{t.upright}, and {t.rotation_note}")
    )
    return [out[name] for name in HANDOUT_ORDER]
