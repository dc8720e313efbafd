#!/usr/bin/env python3
"""Writes a 24-megapixel (6000 x 4000) JPEG that compresses like a photograph (smooth
gradients, shapes and fine noise), with EXIF orientation and GPS, for measuring picture
processing: `python3 scripts/picture-24mp.py /tmp/24mp.jpg && gazette media try /tmp/24mp.jpg`.
Needs Pillow (`pip install pillow`)."""
import random
import sys

from PIL import Image, ImageDraw, ImageFilter

W, H = 6000, 4000
out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/24mp.jpg"
random.seed(7)
img = Image.linear_gradient("L").resize((W, H)).convert("RGB")
sky = Image.new("RGB", (W, H), (90, 140, 200))
img = Image.blend(img, sky, 0.6)
d = ImageDraw.Draw(img)
for _ in range(400):
    x, y, r = random.randrange(W), random.randrange(H), random.randrange(20, 400)
    c = tuple(random.randrange(256) for _ in range(3))
    d.ellipse((x - r, y - r, x + r, y + r), fill=c)
img = img.filter(ImageFilter.GaussianBlur(6))
noise = Image.effect_noise((W, H), 24).convert("RGB")
img = Image.blend(img, noise, 0.12)
exif = Image.Exif()
exif[0x0112] = 1  # orientation
exif[0x010F] = "Courier Camera Co."
img.save(out, "JPEG", quality=92, exif=exif)
print(out)
