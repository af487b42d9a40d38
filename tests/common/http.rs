//! A one-thread HTTP/1.1 server for tests of HTTP clients: each request's target is recorded
//! and answered by `answer(target) -> (status line, JSON body)`.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

pub struct Server {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// Request targets (path and query) in arrival order.
    pub requests: Arc<Mutex<Vec<String>>>,
}

pub fn serve(answer: impl Fn(&str) -> (&'static str, String) + Send + 'static) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let r = requests.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut line = String::new();
            let mut reader = BufReader::new(s.try_clone().unwrap());
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            // Skip the headers.
            let mut h = String::new();
            while reader.read_line(&mut h).is_ok_and(|n| n > 2) {
                h.clear();
            }
            let target = line.split_whitespace().nth(1).unwrap_or("").to_string();
            r.lock().unwrap().push(target.clone());
            let (status, body) = answer(&target);
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    Server { url, requests }
}
