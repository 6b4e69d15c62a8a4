"""JPEGs written and read by Pillow, the library torchvision's image folders
decode with: the reference for pipe's decoder.

    /usr/bin/python3 make_jpegs.py DIR

writes DIR/cmyk.jpg (a CMYK JPEG, as Photoshop saves print images) and
DIR/cmyk-rgb.png and DIR/cmyk-grey.png (what Pillow makes of it, lossless).
"""
import sys

from PIL import Image

out = sys.argv[1]
width, height = 48, 32
image = Image.new("CMYK", (width, height))
image.putdata(
    [((x * 5) % 256, (y * 7) % 256, ((x + y) * 3) % 256, (x * y) % 96) for y in range(height) for x in range(width)]
)
image.save(f"{out}/cmyk.jpg", quality=95)
with Image.open(f"{out}/cmyk.jpg") as read:
    assert read.mode == "CMYK", read.mode
    read.convert("RGB").save(f"{out}/cmyk-rgb.png")
    read.convert("RGB").convert("L").save(f"{out}/cmyk-grey.png")
