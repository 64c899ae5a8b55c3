// A job the server runs in the background (a partition, a route plan): a POST creates its
// resource (202, with the id), which is read again every second, under a progress bar, until
// its `job` is no longer `running`.

/** What a job's resource says of the job. */
export interface JobState {
  id: number;
  job: 'running' | 'done' | 'failed' | null;
  job_error: string | null;
  progress: number | null;
}

export interface Job<T extends JobState> {
  /** Sends the POST that starts the job; answers with the resource. */
  create: () => Promise<T>;
  /** Reads the resource again. */
  poll: (id: number) => Promise<T>;
  /** The progress bar: an element holding a `.bar` and a `.text`. */
  bar: HTMLElement;
  /** The bar's text for a percentage (0–100, rounded). */
  text: (percent: number) => string;
}

const POLL_MS = 1000;

/**
 * Runs a job: shows the bar at 0, creates the job, polls it every second while it runs with its
 * progress on the bar, and hides the bar once it has stopped or a request failed. Answers the
 * last reading (`job` done, failed or null); a failed request throws.
 */
export async function runJob<T extends JobState>({ create, poll, bar, text }: Job<T>): Promise<T> {
  const show = (p: number | null): void => {
    bar.hidden = p === null;
    if (p === null) return;
    (bar.querySelector('.bar') as HTMLElement).style.width = `${p}%`;
    (bar.querySelector('.text') as HTMLElement).textContent = text(Math.round(p));
  };
  show(0);
  try {
    const created = await create();
    let state = created;
    while (state.job === 'running') {
      show(state.progress ?? 0);
      await new Promise((r) => setTimeout(r, POLL_MS));
      state = await poll(created.id);
    }
    return state;
  } finally {
    show(null);
  }
}
