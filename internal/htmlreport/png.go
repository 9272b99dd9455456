package htmlreport

import (
	"fmt"
	"image/color"
	"io"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// PNG size: six panels, 1800 by 1000 pixels at 96 dpi.
const (
	pngWidth  = 1800
	pngHeight = 1000
	pngDPI    = 96
)

// WritePNG writes the main charts of runs as one PNG for CI artifacts, in
// two rows of three panels: the CDFs of TTFT, TPOT, ITL and E2EL, output
// tokens per second and requests in flight per second, each with one line
// a run. A panel whose data no run has says so in its title.
func WritePNG(w io.Writer, runs []*Run) error {
	if len(runs) == 0 {
		return fmt.Errorf("htmlreport: no result files")
	}
	for _, r := range runs {
		r.Notes = slices.Clone(r.loadNotes)
	}
	var panels []*plot.Plot
	for _, m := range cdfMetrics {
		p := newPlot(m.Title+" CDF", m.Key+" (ms)", "fraction ≤ x")
		lines := 0
		for i, r := range runs {
			c, ok := r.CDF(m.Key)
			if !ok || c.N == 0 {
				continue
			}
			xys := make(plotter.XYs, len(c.Points))
			for j, pt := range c.Points {
				xys[j] = plotter.XY{X: pt.X, Y: pt.Y}
			}
			if err := addLine(p, xys, r.Label+" (n="+strconv.Itoa(c.N)+")", i); err != nil {
				return err
			}
			lines++
		}
		panels = append(panels, finish(p, lines))
	}
	tokens := newPlot("Output tokens per second", "second of the run", "output tok/s")
	inFlight := newPlot("Requests active in each second", "second of the run", "requests")
	lines := 0
	for i, r := range runs {
		tok, fl, ok := r.Throughput()
		if !ok {
			continue
		}
		lines++
		if err := addLine(tokens, perSecond(tok), r.Label, i); err != nil {
			return err
		}
		if err := addLine(inFlight, perSecond(fl), r.Label, i); err != nil {
			return err
		}
	}
	panels = append(panels, finish(tokens, lines), finish(inFlight, lines))

	img := vgimg.NewWith(vgimg.UseWH(vg.Length(pngWidth)*vg.Inch/pngDPI, vg.Length(pngHeight)*vg.Inch/pngDPI), vgimg.UseDPI(pngDPI))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 2, Cols: 3, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	grid := [][]*plot.Plot{panels[:3], panels[3:]}
	canvases := plot.Align(grid, tiles, dc)
	for i := range grid {
		for j := range grid[i] {
			grid[i][j].Draw(canvases[i][j])
		}
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(w); err != nil {
		return fmt.Errorf("htmlreport: writing the PNG: %w", err)
	}
	return nil
}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Y.Min = 0
	p.Add(plotter.NewGrid())
	p.Legend.Top = false // bottom right: below a CDF, and where the run's last second drops
	p.Legend.Left = false
	p.Legend.YOffs = vg.Millimeter * 4
	return p
}

// finish marks a panel without lines as such, so that it is not taken for
// a chart of zeros.
func finish(p *plot.Plot, lines int) *plot.Plot {
	if lines == 0 {
		p.Title.Text += ": no data (the files need --save-detailed)"
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	}
	return p
}

func addLine(p *plot.Plot, xys plotter.XYs, label string, i int) error {
	l, err := plotter.NewLine(xys)
	if err != nil {
		return fmt.Errorf("htmlreport: %s: %w", label, err)
	}
	l.Color = hexColor(palette[i%len(palette)])
	l.Width = vg.Points(2)
	l.StepStyle = plotter.PostStep // a CDF and a per-second count hold until the next point
	p.Add(l)
	p.Legend.Add(label, l)
	return nil
}

func perSecond(vs []float64) plotter.XYs {
	xys := make(plotter.XYs, len(vs))
	for i, v := range vs {
		xys[i] = plotter.XY{X: float64(i), Y: v}
	}
	return xys
}

// hexColor parses "#rrggbb".
func hexColor(s string) color.Color {
	v, _ := strconv.ParseUint(s[1:], 16, 32)
	return color.RGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: 255}
}
