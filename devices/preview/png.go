package preview

import (
	"image"
	"image/color"
	"image/png"
	"io"

	"github.com/tillbridge/tillbridge/devices/escpos"
	"golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/inconsolata"
	"golang.org/x/image/math/fixed"
)

// Geometry of the picture, in printer dots (one pixel per dot).
const (
	CellWidth   = 12 // font A character cell width
	CellHeight  = 24 // font A character cell height
	LineSpacing = 30 // default ESC/POS line spacing (1/6 inch at 180 dpi)
)

// RenderOptions sets the paper width and margin of the picture.
type RenderOptions struct {
	// WidthDots is the printable width: 576 (80 mm) or 384 (58 mm).
	WidthDots int
	// Margin is white space around the printable area, in pixels.
	Margin int
	// MaxHeight bounds the picture (default 65535 pixels, about 8 m of
	// paper); blocks beyond it are left out.
	MaxHeight int
}

func (o RenderOptions) withDefaults() RenderOptions {
	if o.WidthDots <= 0 {
		o.WidthDots = 576
	}
	if o.Margin <= 0 {
		o.Margin = 16
	}
	if o.MaxHeight <= 0 {
		o.MaxHeight = 65535
	}
	return o
}

// Size returns the picture size Render produces for doc.
func Size(doc Document, o RenderOptions) image.Point {
	o = o.withDefaults()
	h := 2 * o.Margin
	r := newRenderer(nil, o)
	for _, bl := range doc.Blocks {
		h += r.height(bl)
		if h >= o.MaxHeight {
			return image.Pt(o.WidthDots+2*o.Margin, o.MaxHeight)
		}
	}
	return image.Pt(o.WidthDots+2*o.Margin, h)
}

// Render draws doc as a grayscale picture of the paper roll.
func Render(doc Document, o RenderOptions) *image.Gray {
	o = o.withDefaults()
	sz := Size(doc, o)
	img := image.NewGray(image.Rect(0, 0, sz.X, sz.Y))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	r := newRenderer(img, o)
	y := o.Margin
	for _, bl := range doc.Blocks {
		if y+r.height(bl) > sz.Y-o.Margin {
			break
		}
		r.draw(bl, y)
		y += r.height(bl)
	}
	return img
}

// WritePNG renders doc and encodes it as PNG.
func WritePNG(w io.Writer, doc Document, o RenderOptions) error {
	return png.Encode(w, Render(doc, o))
}

// renderer draws blocks; it caches rendered glyph masks.
type renderer struct {
	img    *image.Gray
	o      RenderOptions
	glyphs map[glyphKey]*image.Alpha
	qrs    map[string][][]bool
	ink    image.Image // black: printed text and modules
	gray   image.Image // marks that do not print (cuts, drawer kicks)
}

type glyphKey struct {
	r    rune
	bold bool
	w, h int // scaled size in pixels; 0 for the unscaled 8×16 mask
}

func newRenderer(img *image.Gray, o RenderOptions) *renderer {
	return &renderer{img: img, o: o, glyphs: map[glyphKey]*image.Alpha{}, qrs: map[string][][]bool{},
		ink: image.NewUniform(color.Gray{Y: 0}), gray: image.NewUniform(color.Gray{Y: 128})}
}

// glyph returns the 8×16 mask of r, or nil when the font lacks it.
func (r *renderer) glyph(c rune, bold bool) *image.Alpha {
	k := glyphKey{r: c, bold: bold}
	if m, ok := r.glyphs[k]; ok {
		return m
	}
	face := inconsolata.Regular8x16
	if bold {
		face = inconsolata.Bold8x16
	}
	var m *image.Alpha
	if _, ok := face.GlyphAdvance(c); ok {
		m = image.NewAlpha(image.Rect(0, 0, face.Advance, face.Height))
		d := font.Drawer{Dst: m, Src: image.Opaque, Face: face, Dot: fixed.P(0, face.Ascent)}
		d.DrawString(string(c))
	}
	r.glyphs[k] = m
	return m
}

// scaledGlyph returns r's mask scaled to w×h pixels, or nil.
func (r *renderer) scaledGlyph(c rune, bold bool, w, h int) *image.Alpha {
	k := glyphKey{c, bold, w, h}
	if m, ok := r.glyphs[k]; ok {
		return m
	}
	var scaled *image.Alpha
	if m := r.glyph(c, bold); m != nil {
		scaled = image.NewAlpha(image.Rect(0, 0, w, h))
		draw.BiLinear.Scale(scaled, scaled.Bounds(), m, m.Bounds(), draw.Src, nil)
	}
	r.glyphs[k] = scaled
	return scaled
}

// text draws s at (x, y) with cells scaled w×h and returns the new x.
func (r *renderer) text(s string, x, y, w, h int, bold bool, underline int, src image.Image) int {
	for _, c := range s {
		cw := CellWidth * w * escpos.RuneWidth(c)
		dst := image.Rect(x, y, x+cw, y+CellHeight*h)
		if m := r.scaledGlyph(c, bold, dst.Dx(), dst.Dy()); m != nil {
			draw.DrawMask(r.img, dst, src, image.Point{}, m, image.Point{}, draw.Over)
		} else if c != ' ' {
			r.box(dst.Inset(2), src) // a glyph the bitmap font lacks (e.g. CJK)
		}
		if underline > 0 {
			u := image.Rect(x, dst.Max.Y-underline, dst.Max.X, dst.Max.Y)
			draw.Draw(r.img, u, src, image.Point{}, draw.Over)
		}
		x += cw
	}
	return x
}

// box draws an outlined rectangle.
func (r *renderer) box(b image.Rectangle, src image.Image) {
	for _, e := range []image.Rectangle{
		{b.Min, image.Pt(b.Max.X, b.Min.Y+1)}, {image.Pt(b.Min.X, b.Max.Y-1), b.Max},
		{b.Min, image.Pt(b.Min.X+1, b.Max.Y)}, {image.Pt(b.Max.X-1, b.Min.Y), b.Max},
	} {
		draw.Draw(r.img, e, src, image.Point{}, draw.Over)
	}
}

// left returns the x where content of width w starts for an alignment.
func (r *renderer) left(w int, bl Block) int {
	free := max(r.o.WidthDots-w, 0)
	switch bl.Align {
	case 1:
		return r.o.Margin + free/2
	case 2:
		return r.o.Margin + free
	}
	return r.o.Margin
}
