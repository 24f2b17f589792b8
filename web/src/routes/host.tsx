export function HostPage() {
  return <p>Coming next.</p>;
}
