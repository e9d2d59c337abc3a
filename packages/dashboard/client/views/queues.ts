import type { QueueView } from '../../src/wire';
import { lineChart, updateChart, type ChartOptions, type Series } from '../charts';
import { fill, h, setText } from '../dom';
import { count, duration, rate } from '../format';
import type { Store } from '../store';

interface QueueCard {
  element: HTMLElement;
  messages: HTMLElement;
  consumers: HTMLElement;
  rates: HTMLElement;
  depth: HTMLElement;
  flow: HTMLElement | null;
}

function span(history: QueueView['history']): string {
  const first = history[0]?.at;
  const last = history.at(-1)?.at;
  return first !== undefined && last !== undefined && last > first ? `−${duration(last - first)}` : '';
}

function depthSeries(queue: QueueView): Series[] {
  return [
    { label: 'messages', className: 'series-depth', values: queue.history.map((sample) => sample.messages) },
  ];
}

function flowSeries(queue: QueueView): Series[] {
  return [
    {
      label: 'published/s',
      className: 'series-in',
      values: queue.history.map((sample) => sample.publishRate),
    },
    {
      label: 'delivered/s',
      className: 'series-out',
      values: queue.history.map((sample) => sample.deliverRate),
    },
  ];
}

function chartOptions(title: string, queue: QueueView, unit = ''): ChartOptions {
  return { title, from: span(queue.history), to: 'now', area: true, unit };
}

function makeCard(queue: QueueView, withRates: boolean): QueueCard {
  const number = (label: string) => {
    const value = h('span', { class: 'stat-value' }, '—');
    return [value, h('div', { class: 'mini' }, h('span', { class: 'stat-label' }, label), value)] as const;
  };
  const [messages, messagesBox] = number('messages');
  const [consumers, consumersBox] = number('consumers');
  const [rates, ratesBox] = number('in / out');
  const depth = lineChart(depthSeries(queue), chartOptions(`${queue.name}: messages`, queue));
  const flow = withRates
    ? lineChart(flowSeries(queue), chartOptions(`${queue.name}: rates`, queue, '/s'))
    : null;
  const element = h(
    'section',
    { class: 'card queue', 'data-queue': queue.name },
    h('h2', { class: 'mono' }, queue.name),
    h('div', { class: 'minis' }, messagesBox, consumersBox, withRates ? ratesBox : null),
    h('div', { class: 'queue-charts' }, depth, flow),
  );
  return { element, messages, consumers, rates, depth, flow };
}

function updateCard(card: QueueCard, queue: QueueView): void {
  setText(card.messages, count(queue.messages));
  setText(card.consumers, count(queue.consumers));
  setText(card.rates, `${rate(queue.publishRate)} / ${rate(queue.deliverRate)}`);
  updateChart(card.depth, depthSeries(queue), chartOptions(`${queue.name}: messages`, queue));
  if (card.flow) updateChart(card.flow, flowSeries(queue), chartOptions(`${queue.name}: rates`, queue, '/s'));
}

/** Each queue's depth and consumers, with live charts; publish/deliver rates when the management API is there. */
export function queuesView(root: HTMLElement, store: Store): () => void {
  const source = h('p', { class: 'muted', id: 'queue-source' });
  const grid = h('div', { class: 'queue-grid', id: 'queues' });
  const empty = h('p', { class: 'muted' }, 'No queue to show yet.');
  fill(root, h('h1', {}, 'Queues'), source, grid, empty);
  const cards = new Map<string, QueueCard>();
  let withRates: boolean | undefined;

  const render = () => {
    const management = store.info?.queueSource === 'management';
    const mode = management ? 'management' : 'broker';
    if (source.dataset.mode !== mode) {
      source.dataset.mode = mode;
      fill(
        source,
        ...(management
          ? ['From the RabbitMQ management API: every queue of the vhost, with publish and deliver rates.']
          : [
              'From the broker connection: depth and consumers of the queues the workers consume (and those given with --queues). Publish and deliver rates need the management API (',
              h('code', {}, '--management-url'),
              ').',
            ]),
      );
    }
    if (withRates !== management) {
      // The kind of cards changed (the management API came or went): rebuild them.
      withRates = management;
      cards.clear();
      grid.replaceChildren();
    }
    const seen = new Set<string>();
    for (const queue of store.queues) {
      seen.add(queue.name);
      let card = cards.get(queue.name);
      if (!card) {
        card = makeCard(queue, management);
        cards.set(queue.name, card);
        grid.append(card.element);
      }
      updateCard(card, queue);
    }
    for (const [name, card] of cards) {
      if (seen.has(name)) continue;
      card.element.remove();
      cards.delete(name);
    }
    empty.hidden = cards.size > 0;
  };
  render();
  const offs = [store.on('queues', render), store.on('info', render)];
  return () => {
    for (const off of offs) off();
  };
}
