/**
 * The page shell. Every URL in it is relative, so the dashboard works under any prefix it is mounted at;
 * the script renders the views. No inline script or style: the Content-Security-Policy forbids them.
 */
export const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>queue dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="./app.css">
<script src="./app.js" defer></script>
</head>
<body>
<header class="top">
  <a class="brand" href="#/">queue<span>dashboard</span></a>
  <nav>
    <a href="#/" data-page="overview">Overview</a>
    <a href="#/workers" data-page="workers">Workers</a>
    <a href="#/tasks" data-page="tasks">Tasks</a>
    <a href="#/queues" data-page="queues">Queues</a>
  </nav>
  <span id="connection" class="connection" data-state="connecting" title="live updates">connecting…</span>
</header>
<div id="notice" class="notice" role="status" aria-live="polite" hidden></div>
<main id="view"><p class="muted">Loading…</p></main>
<noscript>This dashboard needs JavaScript.</noscript>
</body>
</html>
`;
