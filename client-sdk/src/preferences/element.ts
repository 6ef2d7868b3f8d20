/**
 * `<edgeseg-preferences>`: the viewer's preference centre as a framework-free custom
 * element with an open shadow root. It holds no SDK code: the host hands it a segmenter
 * (`el.segmenter = seg`) and it reads everything from `seg.exportData()` and
 * `seg.consent`. The DOM is built once and then updated in place, so focus stays where
 * the viewer left it across re-renders.
 */
import type { Purpose, Segmenter } from '../index.ts';
import { isBackKey, nextFocusIndex } from './focus.ts';
import { STYLES } from './styles.ts';
import { budgetMeaning, downloadName, eraseSummary, ledgerViews, PURPOSE_TEXT, purposeViews, type PreferencesData, type SendingPurpose } from './view.ts';

/** The element's public API, beyond HTMLElement. */
export interface PreferencesElement extends HTMLElement {
  /** The segmenter whose consent and data this element shows; set it once the SDK is loaded. */
  segmenter: Segmenter | null;
  /** Re-reads the device's data and updates the view; resolves once it is shown. */
  refresh(): Promise<void>;
}

type Attrs = Record<string, string>;

function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  el.append(...children);
  return el;
}

/** The parts of one purpose's section that change. */
interface PurposeParts {
  toggle: HTMLButtonElement;
  note: HTMLElement;
  sent: HTMLElement;
  details: HTMLDetailsElement;
  payload: HTMLElement;
}

const SENDING: readonly SendingPurpose[] = ['measurement', 'model_improvement'];

function setSwitch(toggle: HTMLButtonElement, on: boolean): void {
  toggle.setAttribute('aria-checked', String(on));
  const state = toggle.lastElementChild;
  if (state) state.textContent = on ? 'On' : 'Off';
}

const formatTime = (ms: number): string => new Date(ms).toLocaleString();

/** Whether `target` takes typing (Backspace there deletes a character rather than going back). */
function isEditing(target: EventTarget | undefined): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || target instanceof HTMLTextAreaElement) return true;
  return target instanceof HTMLInputElement && !/^(button|checkbox|color|file|hidden|image|radio|range|reset|submit)$/.test(target.type);
}

/**
 * Defines `<edgeseg-preferences>` (or `tag`) once; does nothing where custom elements
 * are missing (server rendering, very old TV runtimes).
 *
 * @example
 * definePreferencesElement();
 * const el = document.createElement('edgeseg-preferences');
 * el.segmenter = createSegmenter({ endpoint: 'https://edge.example.com' });
 * document.body.append(el);
 */
export function definePreferencesElement(tag = 'edgeseg-preferences'): void {
  if (typeof customElements === 'undefined' || customElements.get(tag)) return;

  class EdgesegPreferences extends HTMLElement implements PreferencesElement {
    private seg: Segmenter | null = null;
    private unsubscribe: (() => void) | null = null;
    /** Each refresh takes a number; only the newest one renders. */
    private seq = 0;
    private data: PreferencesData | null = null;
    private readonly root: ShadowRoot;
    private readonly parts = new Map<Purpose, PurposeParts>();
    private readonly meters = new Map<SendingPurpose, { meter: HTMLMeterElement; text: HTMLElement }>();
    /** What the budget allows, in plain words (view.ts, budgetMeaning). */
    private readonly meaning = h('div', { id: 'budget-meaning' });
    private readonly gpc = h('p', { class: 'warn', hidden: '' }, 'Your browser sends Global Privacy Control, so measurement and model improvement stay off whatever is chosen here.');
    private readonly download = h('button', { type: 'button', id: 'download', 'aria-disabled': 'true' }, 'Download my data');
    private readonly erase = h('button', { type: 'button', id: 'erase', 'aria-disabled': 'true', 'aria-expanded': 'false', 'aria-controls': 'confirm' }, 'Erase my data');
    private readonly confirmText = h('p', { id: 'confirm-text' });
    private readonly confirmYes = h('button', { type: 'button', id: 'confirm-erase', class: 'danger' }, 'Yes, erase everything');
    private readonly confirmNo = h('button', { type: 'button', id: 'cancel-erase' }, 'Cancel');
    private readonly confirm = h(
      'div',
      { id: 'confirm', class: 'confirm', role: 'group', 'aria-labelledby': 'confirm-title', 'aria-describedby': 'confirm-text', hidden: '' },
      h('p', { id: 'confirm-title' }, h('strong', {}, 'Erase all your data on this device?')),
      this.confirmText,
      h('div', { class: 'actions' }, this.confirmYes, this.confirmNo),
    );
    private readonly status = h('p', { role: 'status', id: 'status' }, 'Loading your choices…');
    private readonly onVisible = (): void => {
      if (document.visibilityState === 'visible') void this.refresh();
    };

    constructor() {
      super();
      this.root = this.attachShadow({ mode: 'open' });
      this.build();
    }

    get segmenter(): Segmenter | null {
      return this.seg;
    }

    set segmenter(seg: Segmenter | null) {
      this.unsubscribe?.();
      this.unsubscribe = null;
      this.seg = seg;
      if (this.isConnected) this.subscribe();
    }

    connectedCallback(): void {
      // A segmenter set before the element was defined sits on the instance: adopt it.
      if (Object.prototype.hasOwnProperty.call(this, 'segmenter')) {
        const early = (this as { segmenter: Segmenter | null }).segmenter;
        delete (this as { segmenter?: Segmenter | null }).segmenter;
        this.segmenter = early;
      }
      this.subscribe();
      document.addEventListener('visibilitychange', this.onVisible);
    }

    disconnectedCallback(): void {
      this.unsubscribe?.();
      this.unsubscribe = null;
      document.removeEventListener('visibilitychange', this.onVisible);
    }

    async refresh(): Promise<void> {
      const seg = this.seg;
      if (!seg) return;
      const seq = ++this.seq;
      const data = (await seg.exportData()) as PreferencesData | null;
      if (seq !== this.seq || seg !== this.seg) return;
      if (data) this.render(data);
      else this.renderConsentOnly(seg.consent.get());
    }

    private subscribe(): void {
      if (!this.seg || this.unsubscribe) return;
      this.unsubscribe = this.seg.consent.onChange(() => void this.refresh());
      void this.refresh();
    }

    private build(): void {
      const list = h('ul', { 'aria-label': 'Purposes' });
      for (const { purpose, title, description } of PURPOSE_TEXT) {
        const toggle = h(
          'button',
          { type: 'button', role: 'switch', id: purpose, 'aria-checked': 'false', 'aria-disabled': 'true', 'aria-labelledby': `${purpose}-title`, 'aria-describedby': `${purpose}-desc ${purpose}-note` },
          h('span', { class: 'track', 'aria-hidden': 'true' }, h('span', { class: 'knob' })),
          h('span', { class: 'state', 'aria-hidden': 'true' }, 'Off'),
        );
        toggle.addEventListener('click', () => void this.toggle(purpose, title));
        const parts: PurposeParts = {
          toggle,
          note: h('p', { id: `${purpose}-note`, class: 'warn', hidden: '' }),
          sent: h('p', { id: `${purpose}-sent`, class: 'muted' }),
          payload: h('pre', { id: `${purpose}-payload` }),
          details: h('details', { hidden: '' }),
        };
        parts.details.append(h('summary', { id: `${purpose}-show` }, `Show the exact ${title.toLowerCase()} payload`), parts.payload);
        this.parts.set(purpose, parts);
        list.append(
          h(
            'li',
            { class: 'purpose' },
            h('div', { class: 'head' }, h('h3', { id: `${purpose}-title` }, title), toggle),
            h('p', { id: `${purpose}-desc` }, description),
            parts.note,
            h('h4', {}, 'What leaves this device'),
            parts.sent,
            parts.details,
          ),
        );
      }

      const ledger = h(
        'section',
        { class: 'block ledger', 'aria-labelledby': 'ledger-title' },
        h('h3', { id: 'ledger-title' }, 'Privacy budget'),
        h('p', { class: 'muted' }, 'Each report or contribution uses some privacy budget (ε): the less used, the less anyone could learn about you. This device stops sending for a purpose once it has used its cap within 30 days, or everything once it has used its yearly total; erasing your data does not reset this.'),
        this.meaning,
      );
      for (const purpose of SENDING) {
        const title = PURPOSE_TEXT.find((p) => p.purpose === purpose)?.title ?? purpose;
        const meter = h('meter', { min: '0', 'aria-label': `${title} privacy budget used` });
        const text = h('span', { id: `${purpose}-ledger` });
        this.meters.set(purpose, { meter, text });
        ledger.append(h('p', {}, h('strong', {}, title), meter, text));
      }

      const data = h(
        'section',
        { class: 'block', 'aria-labelledby': 'data-title' },
        h('h3', { id: 'data-title' }, 'Your data'),
        h('p', { class: 'muted' }, 'Download a copy of everything kept on this device, or erase it.'),
        h('div', { class: 'actions' }, this.download, this.erase),
        this.confirm,
      );

      this.download.addEventListener('click', () => void this.downloadData());
      this.erase.addEventListener('click', () => this.openConfirm());
      this.confirmNo.addEventListener('click', () => this.closeConfirm());
      this.confirmYes.addEventListener('click', () => void this.eraseData());
      this.root.addEventListener('keydown', (e) => this.onKey(e as KeyboardEvent));

      this.root.append(
        h('style', {}, STYLES),
        h('h2', {}, 'Your privacy choices'),
        h('p', { class: 'muted' }, 'What you watch stays on this device. Each switch controls one use of it, and under each you can see exactly what it last sent.'),
        this.gpc,
        list,
        ledger,
        data,
        this.status,
      );
    }

    private render(data: PreferencesData): void {
      this.data = data;
      this.gpc.hidden = !data.consent.globalPrivacyControl;
      for (const view of purposeViews(data, formatTime)) {
        const parts = this.parts.get(view.purpose);
        if (!parts) continue;
        setSwitch(parts.toggle, view.on);
        parts.toggle.setAttribute('aria-disabled', String(view.lockedByGpc));
        parts.note.textContent = view.note ?? '';
        parts.note.hidden = view.note === null;
        parts.sent.textContent = view.sentSummary;
        parts.payload.textContent = view.payload ?? '';
        parts.details.hidden = view.payload === null;
      }
      for (const line of ledgerViews(data)) {
        const parts = this.meters.get(line.purpose);
        if (!parts) continue;
        parts.meter.max = line.cap;
        parts.meter.value = line.spent;
        parts.text.textContent = line.text;
      }
      // Not replaceChildren: 2020 TV browsers (Chromium 68) lack it.
      this.meaning.textContent = '';
      for (const line of budgetMeaning(data)) this.meaning.append(h('p', {}, line));
      this.download.setAttribute('aria-disabled', 'false');
      this.erase.setAttribute('aria-disabled', 'false');
      if (this.status.textContent === 'Loading your choices…') this.say('');
    }

    /**
     * Without readable storage (some private modes and TV runtimes) the export is null,
     * but consent still works for the visit: show and accept the switches, nothing else.
     */
    private renderConsentOnly(consent: Record<Purpose, boolean>): void {
      for (const [purpose, parts] of this.parts) {
        setSwitch(parts.toggle, consent[purpose]);
        parts.toggle.setAttribute('aria-disabled', 'false');
      }
      if (this.status.textContent === 'Loading your choices…') this.say('The data on this device could not be read, so only your choices are shown; they apply to this visit.');
    }

    private say(message: string): void {
      this.status.textContent = message;
    }

    private async toggle(purpose: Purpose, title: string): Promise<void> {
      const seg = this.seg;
      const parts = this.parts.get(purpose);
      if (!seg || !parts || parts.toggle.getAttribute('aria-disabled') === 'true') return;
      const on = parts.toggle.getAttribute('aria-checked') !== 'true';
      this.seq++; // a refresh already under way shows the old choice: drop it
      setSwitch(parts.toggle, on);
      await seg.consent.set({ [purpose]: on });
      this.say(`${title} is ${on ? 'on' : 'off'}.`);
      await this.refresh();
      // A grant may send at once (this week's report, a contribution to an open round): show what left.
      await seg.flush();
      await this.refresh();
    }

    private async downloadData(): Promise<void> {
      if (this.download.getAttribute('aria-disabled') === 'true') return;
      const data = this.seg && (await this.seg.exportData());
      if (!data) {
        this.say('Your data could not be read on this device.');
        return;
      }
      const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }));
      const name = downloadName(data.exportedAt);
      h('a', { href: url, download: name }).click();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      this.say(`Downloaded ${name}: everything kept on this device.`);
    }

    private openConfirm(): void {
      if (!this.data) return;
      this.confirmText.textContent = eraseSummary(this.data);
      this.confirm.hidden = false;
      this.erase.setAttribute('aria-expanded', 'true');
      this.confirmNo.focus(); // the safe choice first
    }

    private closeConfirm(): void {
      this.confirm.hidden = true;
      this.erase.setAttribute('aria-expanded', 'false');
      this.erase.focus();
    }

    private async eraseData(): Promise<void> {
      if (!this.seg) return;
      await this.seg.eraseData();
      this.closeConfirm();
      this.say('Erased: your viewing data is gone from this device; only when and how much privacy budget was used is kept.');
      await this.refresh();
    }

    /**
     * Arrow keys and a TV remote's D-pad move between controls; Escape and the remotes'
     * Back buttons (webOS 461, Tizen 10009, see isBackKey) close the erase confirmation.
     * A Back press that closed it goes no further (stopPropagation, preventDefault), so
     * the app does not also navigate back; with the confirmation closed, Back is the app's.
     */
    private onKey(e: KeyboardEvent): void {
      if (!this.confirm.hidden && isBackKey({ key: e.key, keyCode: e.keyCode, editing: isEditing(e.composedPath()[0]) })) {
        e.preventDefault();
        e.stopPropagation();
        this.closeConfirm();
        return;
      }
      if (e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
      const controls = Array.from(this.root.querySelectorAll<HTMLElement>('button, summary')).filter((c) => c.getClientRects().length > 0);
      const next = nextFocusIndex(e.key, controls.indexOf(this.root.activeElement as HTMLElement), controls.length);
      if (next === null) return;
      e.preventDefault();
      controls[next]?.focus();
    }
  }

  customElements.define(tag, EdgesegPreferences);
}
