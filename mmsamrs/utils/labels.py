"""Label-map conventions shared by the whole package."""

#: The label value of pixels that belong to no class (no mask, or an ignored class such as
#: Potsdam's clutter and iSAID's background); ``uint8`` label maps hold classes
#: ``0 .. IGNORE_INDEX - 1``. It is also mmseg's default ``ignore_index``.
IGNORE_INDEX = 255
