import { QueryCache, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { RouterProvider } from "@tanstack/react-router";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { ApiProblem } from "./api/client.ts";
import { keys } from "./api/keys.ts";
import { queryRetryDelay, retryQuery } from "./api/retry.ts";
import { ToastProvider } from "./components/ui/toast.tsx";
import { applyTheme } from "./lib/theme.ts";
import { createAppRouter } from "./router.tsx";
import "./styles.css";

applyTheme();

const queryClient: QueryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 10_000,
      // Requests that got no answer (a network change) are tried again quickly, server errors and
      // 429 three times; other 4xx are answers (api/retry.ts).
      retry: retryQuery,
      retryDelay: queryRetryDelay,
      refetchOnWindowFocus: false,
    },
  },
  queryCache: new QueryCache({
    // A session that ended (expired, signed out elsewhere) sends the user back to sign in. Who is
    // signed in (`me`) is the route guard's question: it decides between sign-in and first run.
    onError: (err, query) => {
      if (query.queryKey[0] === keys.me[0]) return;
      if (err instanceof ApiProblem && err.status === 401 && !["/signin", "/setup"].includes(router.state.location.pathname)) {
        queryClient.removeQueries({ queryKey: keys.me });
        void router.navigate({ to: "/signin", search: { next: router.state.location.href } });
      }
    },
  }),
});

const router = createAppRouter(queryClient);

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <ToastProvider>
        <RouterProvider router={router} />
      </ToastProvider>
    </QueryClientProvider>
  </StrictMode>,
);
