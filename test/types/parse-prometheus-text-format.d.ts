// Types for the Prometheus text parser used by tests (the package ships none).
declare module 'parse-prometheus-text-format' {
  export default function parsePrometheusTextFormat(text: string): unknown[];
}
