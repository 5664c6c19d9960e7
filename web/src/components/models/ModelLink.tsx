// Links to a model's detail page without a router hook per link: 200 router <Link>s would all re-render on every
// keystroke in the name filter (each one listens to the location); one listener on the list navigates instead.
import { type RefObject, useEffect } from 'react';
import { useNavigate } from 'react-router-dom';
import { modelPath } from '../../api/client.ts';

const BASENAME = '/ui';

export function ModelLink({ name }: { name: string }) {
  const to = `/models/${modelPath(name)}`;
  return (
    <a href={`${BASENAME}${to}`} data-route={to}>
      {name}
    </a>
  );
}

/** Plain left clicks on a ModelLink inside `container` become client-side navigations (new-tab clicks stay links). */
export function useModelLinkNavigation(container: RefObject<HTMLElement | null>): void {
  const navigate = useNavigate();
  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const onClick = (event: MouseEvent) => {
      if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      const link = (event.target as Element | null)?.closest?.('a[data-route]');
      const route = link?.getAttribute('data-route');
      if (!route) return;
      event.preventDefault();
      navigate(route);
    };
    element.addEventListener('click', onClick);
    return () => element.removeEventListener('click', onClick);
  }, [container, navigate]);
}
