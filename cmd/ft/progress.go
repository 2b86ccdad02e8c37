package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"ft/finetune"
)

// progressBar draws ft run's progress on a terminal as one line redrawn in
// place (carriage return, clear to the end of the line), fitted to the
// terminal's width, which is read at every redraw (a resized window is
// followed). golang.org/x/term gives the width (TIOCGWINSZ on Unix, the
// console API on Windows) without cgo.
type progressBar struct {
	w     io.Writer
	fd    int
	last  time.Time
	drawn bool
	// state is the last step drawn (done redraws it once more).
	state *finetune.Event
}

func newProgressBar(w io.Writer) *progressBar {
	p := &progressBar{w: w, fd: -1}
	if f, ok := w.(*os.File); ok {
		p.fd = int(f.Fd())
	}
	return p
}

// width is the terminal's width in columns (80 when it cannot be read).
func (p *progressBar) width() int {
	if p.fd >= 0 {
		if w, _, err := term.GetSize(p.fd); err == nil && w > 0 {
			return w
		}
	}
	return 80
}

// step redraws the line, at most 10 times a second (and always at the end).
func (p *progressBar) step(e finetune.Event) {
	if time.Since(p.last) < 100*time.Millisecond && e.Step != e.Total {
		return
	}
	p.last = time.Now()
	p.state = &e
	fmt.Fprintf(p.w, "\r%s\x1b[K", progressLine(e, p.width()))
	p.drawn = true
}

// clear removes the line before other output; the next step redraws it.
func (p *progressBar) clear() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
}

// done leaves the last state of the line (drawn again if an evaluation
// line cleared it) and ends it.
func (p *progressBar) done() {
	if !p.drawn && p.state != nil {
		fmt.Fprintf(p.w, "\r%s\x1b[K", progressLine(*p.state, p.width()))
		p.drawn = true
	}
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
	p.state = nil
}

// progressLine is the progress line for a terminal of width columns: at
// most width-1 characters (a line as wide as the terminal wraps on some),
// the bar shrinking first, then the fields of least interest dropped
// (samples/s, learning rate, epoch, ETA), in that order.
func progressLine(e finetune.Event, width int) string {
	limit := max(width-1, 1)
	pct := 100 * e.Step / max(1, e.Total)
	fields := []string{
		fmt.Sprintf("%3d%% %d/%d", pct, e.Step, e.Total),
		fmt.Sprintf("loss %.4f", e.Loss),
		fmt.Sprintf("ETA %s", e.ETA.Round(time.Second)),
		fmt.Sprintf("epoch %.2f", e.Epoch),
		fmt.Sprintf("lr %.2e", e.LearningRate),
		fmt.Sprintf("%.0f samples/s", e.SamplesPerSec),
	}
	for n := len(fields); n >= 1; n-- {
		text := strings.Join(fields[:n], "  ")
		room := limit - len(text) - 3 // "[" bar "] "
		if room >= 10 || n == 1 {
			bar := min(room, 30)
			if bar < 5 {
				if len(text) > limit {
					text = text[:limit]
				}
				return text
			}
			done := bar * e.Step / max(1, e.Total)
			return "[" + strings.Repeat("=", done) + strings.Repeat(" ", bar-done) + "] " + text
		}
	}
	return ""
}
