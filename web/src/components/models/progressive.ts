// Renders a long list in two steps: the first screenful at once, the rest in a transition just after, so the page
// paints and answers clicks before 200 cards are built (a transition yields to input).
import { startTransition, useEffect, useState } from 'react';

export function useProgressive<T>(items: T[], first: number): T[] {
  const [all, setAll] = useState(false);
  const needed = !all && items.length > first;
  useEffect(() => {
    if (!needed) return;
    const frame = requestAnimationFrame(() => startTransition(() => setAll(true)));
    return () => cancelAnimationFrame(frame);
  }, [needed]);
  return needed ? items.slice(0, first) : items;
}
