// The package ships no types: what the end-to-end tests read of its result.
declare module "parse-prometheus-text-format" {
  export interface PrometheusMetric {
    value?: string;
    labels?: Record<string, string>;
  }
  export interface PrometheusFamily {
    name: string;
    help: string;
    type: string;
    metrics: PrometheusMetric[];
  }
  export default function parsePrometheusTextFormat(text: string): PrometheusFamily[];
}
