package console_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// browser drives one headless Chromium for a browser test. It records, as
// test errors at the end of the test, every request to a host other than
// the node it talks to, every dialog (markup that ran as script) and every
// console error, exception or warning (CSP violations among them) — except
// 403/404 network errors after ExpectRefusals.
type browser struct {
	t   *testing.T
	ctx context.Context

	mu       sync.Mutex // guards the three below
	node     *url.URL   // the node the browser may talk to
	refusals bool
	problems []string
}

// newBrowser starts Chromium for t talking to the node at base, or skips t
// when there is no Chromium. It stops when t ends.
func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	bin := chromium()
	if bin == "" {
		t.Skip("console: no chromium on PATH (make test-deps installs Debian's chromium and fonts-wqy-microhei); the browser test is skipped")
	}
	b := &browser{t: t}
	b.node, _ = url.Parse(base)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1400, 1000), chromedp.Flag("lang", "zh-CN"))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 120*time.Second)
	b.ctx = ctx
	t.Cleanup(func() {
		cancelT()
		cancelC()
		cancelA()
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, p := range b.problems {
			t.Error(p)
		}
	})
	if err := chromedp.Listen(ctx, func(ev any) {
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			u, err := url.Parse(e.Request.URL)
			if err == nil && u.Scheme != "data" && u.Scheme != "blob" && u.Host != b.nodeHost() {
				b.report("request to another host: %s", e.Request.URL)
			}
		case *page.EventJavascriptDialogOpening:
			b.report("a dialog opened: %q (markup ran as script?)", e.Message)
			go chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}); err != nil {
		t.Fatalf("start chromium (%s): %v", bin, err)
	}
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			b.mu.Lock()
			expected := b.refusals && m.Source == "network" && (strings.Contains(m.Text, "status of 403") || strings.Contains(m.Text, "status of 404") ||
				strings.Contains(m.Text, "status of 409") || strings.Contains(m.Text, "status of 400") || strings.Contains(m.Text, "status of 422") ||
				strings.Contains(m.Text, "status of 401")) // a session ended elsewhere
			b.mu.Unlock()
			if !expected && (m.IsException() || m.Type == chromedp.ConsoleError || m.Type == "warning") {
				b.report("console %s: %s (%s:%d)", m.Type, m.Text, m.URL, m.Line)
			}
		}
	}()
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	return b
}

func (b *browser) nodeHost() string { b.mu.Lock(); defer b.mu.Unlock(); return b.node.Host }

func (b *browser) report(format string, a ...any) {
	b.mu.Lock()
	b.problems = append(b.problems, fmt.Sprintf(format, a...))
	b.mu.Unlock()
}

// SetNode switches the node the browser may talk to (before navigating there).
func (b *browser) SetNode(base string) {
	u, _ := url.Parse(base)
	b.mu.Lock()
	b.node = u
	b.mu.Unlock()
}

// ExpectRefusals tells the browser that the steps ahead ask for what the
// API refuses (4xx), which Chromium logs as console errors.
func (b *browser) ExpectRefusals(on bool) { b.mu.Lock(); b.refusals = on; b.mu.Unlock() }

// Do runs steps, failing the test with what.
func (b *browser) Do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// Eval evaluates a script and answers its value.
func Eval[T any](b *browser, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// Text answers the text of the first element sel selects.
func (b *browser) Text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("read %s: %v", sel, err)
	}
	return s
}

// WantIn checks that sel's text holds every one of want.
func (b *browser) WantIn(sel string, want ...string) {
	b.t.Helper()
	got := b.Text(sel)
	for _, w := range want {
		if !strings.Contains(got, w) {
			b.t.Errorf("%s does not show %q; it reads %q", sel, w, got)
		}
	}
}

// Login fills and submits the login form.
func (b *browser) Login(user, password string) {
	b.t.Helper()
	b.Do("log in as "+user,
		chromedp.WaitVisible(chromedp.CSS(`#login`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), user),
		chromedp.SendKeys(chromedp.CSS(`#password`), password),
		chromedp.Click(chromedp.CSS(`#login button[type=submit]`)))
}

// WaitTitle waits until the page's h1 (#page-title) holds want.
func (b *browser) WaitTitle(want string) {
	b.t.Helper()
	b.WaitJS(`(document.querySelector('#page-title')||{}).textContent||''`, func(got string) bool { return strings.Contains(got, want) },
		"the page title to show "+want)
}

// WaitJS polls js until ok holds for its string value (20 s).
func (b *browser) WaitJS(js string, ok func(string) bool, what string) {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js))
		if err != nil {
			b.t.Fatalf("wait for %s: %v", what, err)
		}
		if ok(got) {
			return
		}
		if time.Now().After(deadline) {
			body, _ := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(`main`)))
			b.t.Fatalf("waited in vain for %s (last %q; page: %.300s)", what, got, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Hash goes to a console route (#/…), clearing the title first so that
// WaitTitle waits for the new page.
func (b *browser) Hash(h string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[any](`document.getElementById('page-title') && (document.getElementById('page-title').textContent = ''); location.hash = `+jsString(h)+`; 0`)); err != nil {
		b.t.Fatalf("go to %s: %v", h, err)
	}
}

// Shot writes a full-page PNG named name into the screenshot directory.
func (b *browser) Shot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err == nil {
		err = os.WriteFile(filepath.Join(screenshotDir(b.t), name+".png"), png, 0o644)
	}
	if err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
	}
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`, "\r", `\r`, "<", `\x3c`)
	return "'" + r.Replace(s) + "'"
}
