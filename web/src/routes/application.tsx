export function ApplicationPage() {
  return <p>Coming next.</p>;
}
