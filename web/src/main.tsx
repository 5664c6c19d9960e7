// Entry point of the dashboard: one query client, the router under /ui/, the app shell.
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router-dom';
import { App } from './App.tsx';
import { ApiError, isForbidden } from './api/client.ts';
import './styles.css';
import './styles/detail.css';
import './styles/download.css';
import './styles/models.css';
import './styles/ops.css';

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // Live events invalidate what changed; polling is the fallback when the stream is down.
      // A view this key may not see (403) stays as it is until something invalidates it: asking again answers the same.
      refetchInterval: (query) => (isForbidden(query.state.error) ? false : 5000),
      retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 2,
    },
  },
});

const root = document.getElementById('root');
if (root)
  createRoot(root).render(
    <StrictMode>
      <QueryClientProvider client={queryClient}>
        <BrowserRouter basename="/ui">
          <App />
        </BrowserRouter>
      </QueryClientProvider>
    </StrictMode>,
  );
