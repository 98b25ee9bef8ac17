/// The frame of every page collector-cli writes: one self-contained file with its style and
/// its one small script inline, no fonts, images or scripts from elsewhere, so it opens from a
/// ticket attachment or an air-gapped laptop and prints on paper.
enum HTMLPage {
    static func document(title: String, body: HTML) -> HTML {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <meta http-equiv="Content-Security-Policy" content="\(contentSecurityPolicy)"/>
        <meta name="generator" content="collector-cli \(CollectorCLI.version)"/>
        <title>\(title)</title>
        <style>\(stylesheet)</style>
        </head>
        <body>
        <main>
        \(body)
        </main>
        <div id="tip" role="tooltip" hidden="hidden"></div>
        <script>//<![CDATA[
        \(script)
        //]]></script>
        </body>
        </html>

        """
    }

    /// Nothing but the page's own inline style and script: no fetch, no image, no frame, no
    /// connection. The page needs none, so a browser refuses them all, and whatever might ever
    /// slip past the escaping could send nothing anywhere.
    static let contentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
        + "base-uri 'none'; form-action 'none'"

    /// A status as a coloured word: the same names as text output.
    static func badge(_ status: HostStatus) -> HTML {
        "<span class=\"badge \(status.rawValue)\" data-status=\"\(status.rawValue)\">\(status.headline)</span>"
    }

    /// A number as people read it, the exact value beside it for programs (and tests):
    /// `<span data-field="heap" data-value="251969536">240.3 MiB</span>`.
    static func figure(_ field: String, value: String, shown: String, extraClass: String = "") -> HTML {
        let classes = extraClass.isEmpty ? HTML.empty : " class=\"\(extraClass)\""
        return "<span\(classes) data-field=\"\(field)\" data-value=\"\(value)\">\(shown)</span>"
    }

    /// Restrained: ink and greys for structure, blue for the heap, colour for status and growth only.
    static let stylesheet: HTML = """

        :root { --ink: #1f2933; --muted: #616e7c; --faint: #9aa5b1; --rule: #e4e7eb; --paper: #ffffff; --panel: #f7f8fa;
          --heap: #2563eb; --rss: #9aa5b1; --warn: #b45309; --crit: #b91c1c;
          --sans: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", "Liberation Sans", sans-serif;
          --mono: ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono", "DejaVu Sans Mono", monospace; }
        * { box-sizing: border-box; }
        html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
        body { margin: 0; background: var(--paper); color: var(--ink); font: 14px/1.45 var(--sans); }
        main { max-width: 1200px; margin: 0 auto; padding: 24px 32px 48px; }
        h1 { font-size: 22px; line-height: 1.3; margin: 0 0 4px; font-weight: 600; overflow-wrap: anywhere; }
        h2 { font-size: 16px; margin: 0 0 2px; font-weight: 600; }
        h3 { font-size: 14px; margin: 0; font-weight: 600; }
        section { margin-top: 28px; }
        section > header { display: flex; align-items: baseline; gap: 12px; flex-wrap: wrap;
          border-bottom: 1px solid var(--rule); padding-bottom: 4px; margin-bottom: 12px; }
        .detail, .muted { color: var(--muted); }
        .detail { font-size: 13px; }
        .mono, code { font-family: var(--mono); font-size: 12.5px; }
        code { overflow-wrap: anywhere; }
        .verdict { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 12px; }
        .verdict .aside { font-weight: 400; }
        .context { color: var(--muted); margin: 2px 0 0; overflow-wrap: anywhere; }
        .generated { color: var(--faint); font-size: 12px; margin-top: 6px; }
        .badge { display: inline-block; padding: 1px 8px; border-radius: 3px; font-size: 12px; font-weight: 600;
          letter-spacing: .04em; white-space: nowrap; vertical-align: 2px; }
        h1 .badge { font-size: 13px; }
        .badge.suspected-leak { background: #fde8e8; color: #9b1c1c; }
        .badge.growing { background: #fdf3d8; color: #8a4b0f; }
        .badge.ok { background: #e3f4ea; color: #1e5b3a; }
        .badge.not-enough-data { background: #eef0f3; color: #4b5563; }
        .figures { display: grid; grid-template-columns: repeat(6, minmax(0, 1fr)); gap: 1px; background: var(--rule);
          border: 1px solid var(--rule); border-radius: 4px; overflow: hidden; margin-top: 16px; }
        .figures > div { background: var(--panel); padding: 8px 12px; min-width: 0; }
        .figures .label { color: var(--muted); font-size: 12px; }
        .figures .value { font-size: 18px; font-weight: 600; font-variant-numeric: tabular-nums; white-space: nowrap;
          overflow: hidden; text-overflow: ellipsis; }
        .figures .sub { color: var(--muted); font-size: 12px; overflow-wrap: anywhere; }
        svg { display: block; max-width: 100%; height: auto; font-family: var(--sans); }
        svg text { fill: var(--muted); font-size: 11px; }
        .axis line, .grid line { stroke: var(--rule); }
        .axis path { stroke: var(--faint); fill: none; }
        .line { fill: none; stroke-width: 1.6; stroke-linejoin: round; }
        .line.heap { stroke: var(--heap); }
        .line.RSS { stroke: var(--rss); stroke-dasharray: 4 2; }
        .dot.heap { fill: var(--heap); } .dot.RSS { fill: var(--rss); }
        .hover rect { fill: var(--ink); fill-opacity: 0; }
        .hover g:hover rect { fill-opacity: .06; }
        .area.heap { fill: var(--heap); opacity: .07; }
        .restart line { stroke: var(--muted); stroke-dasharray: 3 3; }
        .crossing line { stroke-dasharray: 2 2; }
        .crossing.warning line, .level.warning line { stroke: var(--warn); }
        .crossing.critical line, .level.critical line { stroke: var(--crit); }
        .crossing.cleared line { stroke: #3f7d5c; }
        .crossing.warning path { fill: var(--warn); } .crossing.critical path { fill: var(--crit); }
        .crossing.cleared path { fill: #3f7d5c; }
        .level line { stroke-dasharray: 6 4; opacity: .7; }
        .crossing text.warning, .level.warning text { fill: var(--warn); }
        .crossing text.critical, .level.critical text { fill: var(--crit); }
        .legend { display: flex; gap: 18px; flex-wrap: wrap; color: var(--muted); font-size: 12px; margin-top: 6px; }
        .key { display: inline-block; width: 18px; height: 0; border-top: 2px solid; vertical-align: middle; margin-right: 6px; }
        .key.heap { border-color: var(--heap); } .key.rss { border-color: var(--rss); border-top-style: dashed; }
        .key.restart { border-color: var(--muted); border-top-style: dotted; }
        .key.warning { border-color: var(--warn); border-top-style: dashed; }
        .key.critical { border-color: var(--crit); border-top-style: dashed; }
        .swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; vertical-align: -1px; margin-right: 6px; }
        .sites { display: grid; gap: 12px; }
        .site { display: grid; grid-template-columns: minmax(0, 1fr) 320px; gap: 16px; border: 1px solid var(--rule);
          border-radius: 4px; padding: 12px 14px; break-inside: avoid; }
        .site .summary { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 12px; }
        .site .rank { color: var(--faint); font-weight: 600; }
        .site .rate { font-weight: 600; font-variant-numeric: tabular-nums; }
        .site .type { overflow-wrap: anywhere; }
        .frames { list-style: none; margin: 8px 0 0; padding: 0; }
        .frames li { font-family: var(--mono); font-size: 12.5px; padding: 1px 0; overflow-wrap: anywhere; }
        .frames li .location { color: var(--muted); }
        .frames li.folded { font-family: var(--sans); color: var(--faint); font-size: 12px; }
        .frames li.application { font-weight: 600; }
        .inlined { color: var(--faint); font-family: var(--sans); font-size: 11px; }
        .spark .line { stroke: var(--heap); stroke-width: 1.4; }
        .chart-note { color: var(--faint); font-size: 12px; }
        .icicle rect { stroke: var(--paper); stroke-width: .5; }
        .icicle text { fill: #1f2933; font-size: 11px; pointer-events: none; }
        .icicle text.light { fill: #ffffff; }
        .icicle g:hover rect { stroke: var(--ink); stroke-width: 1; }
        table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
        th { text-align: left; font-weight: 600; color: var(--muted); font-size: 12px; border-bottom: 1px solid var(--rule);
          padding: 4px 8px; }
        td { padding: 4px 8px; border-bottom: 1px solid var(--rule); vertical-align: top; }
        td.number, th.number { text-align: right; white-space: nowrap; }
        td.nowrap { white-space: nowrap; }
        td.wrap { overflow-wrap: anywhere; }
        .bar { height: 10px; background: var(--heap); opacity: .55; border-radius: 1px; min-width: 1px; }
        .bar.bytes { background: #7b8794; }
        .columns { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 24px; }
        a { color: var(--heap); }
        .fleet td a { color: var(--ink); font-weight: 600; text-decoration: none; border-bottom: 1px solid var(--rule); }
        .fleet tr.stale td { color: var(--faint); }
        section.host { border-top: 1px solid var(--rule); padding-top: 12px; margin-top: 20px; break-inside: avoid; }
        section.host h2 { overflow-wrap: anywhere; }
        section.host p { margin: 4px 0; }
        section.host::after { content: ""; display: block; clear: both; }
        .host-chart { float: right; width: 360px; margin-left: 24px; }
        .warning-line { color: var(--warn); margin-top: 8px; }
        #tip { position: fixed; z-index: 10; max-width: 560px; background: #1f2933; color: #f5f7fa; padding: 6px 9px;
          border-radius: 4px; font: 12px/1.45 var(--mono); white-space: pre-wrap; overflow-wrap: anywhere; pointer-events: none;
          box-shadow: 0 2px 8px rgba(0,0,0,.25); }
        @media print {
          @page { size: A4 landscape; margin: 12mm; }
          body { font-size: 10.5pt; }
          main { max-width: none; padding: 0; }
          section { break-inside: auto; margin-top: 16px; }
          section > header { break-after: avoid; }
          .figures { break-inside: avoid; }
          #tip { display: none; }
          a { color: inherit; text-decoration: none; }
        }

        """

    /// Hover text for whatever carries a `<title>` in an SVG (the flame graph's frames, the
    /// memory chart's moments): the
    /// title moves into `data-tip` so the browser's own slow tooltip does not show twice; without
    /// scripts (some ticket viewers) the titles stay and the browser shows them.
    static let script: HTML = """
        (function () {
          var tip = document.getElementById('tip');
          var targets = document.querySelectorAll('svg g[data-hover]');
          Array.prototype.forEach.call(targets, function (target) {
            var title = target.querySelector('title');
            if (!title) { return; }
            target.setAttribute('data-tip', title.textContent);
            target.removeChild(title);
            target.addEventListener('mousemove', function (event) {
              tip.textContent = target.getAttribute('data-tip');
              tip.hidden = false;
              var x = event.clientX + 14, y = event.clientY + 14;
              var box = tip.getBoundingClientRect();
              if (x + box.width > window.innerWidth - 8) { x = Math.max(8, event.clientX - box.width - 14); }
              if (y + box.height > window.innerHeight - 8) { y = Math.max(8, event.clientY - box.height - 14); }
              tip.style.left = x + 'px';
              tip.style.top = y + 'px';
            });
            target.addEventListener('mouseleave', function () { tip.hidden = true; });
          });
        })();
        """
}
