import { render } from 'preact';
import { App } from './App';
import './styles.css';
import { startWorker } from './lib/traceClient';

performance.mark('clew:app-start');
// Other pages start the worker once the page is idle: it is needed only when a trace is opened.
if (window.__clewEarly) startWorker();
else if ('requestIdleCallback' in window) requestIdleCallback(() => startWorker(), { timeout: 2000 });
else setTimeout(startWorker, 500);

render(<App />, document.getElementById('app')!);
