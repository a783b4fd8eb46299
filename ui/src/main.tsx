import { render } from 'preact';
import { App } from './App';
import './styles.css';
import { startWorker } from './lib/traceClient';

performance.mark('clew:app-start');
startWorker();

render(<App />, document.getElementById('app')!);
